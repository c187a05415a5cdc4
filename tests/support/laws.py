"""Law fixtures written for the tests, in the shape of real e-Gov 法令標準XML and 法令API responses.

One invented act (平成十三年法律第九十九号, ID 413AC0000000099) in two revisions and both
serialisations e-Gov has used: the current one (``Num="099"``, PromulgateMonth/Day, LawTitle Kana
and Abbrev) and the older one (``Num="99"``, ``Delete="false" Hide="false"`` on every provision, no
promulgation month/day, no kana).
"""

from __future__ import annotations

import json

LAW_ID = "413AC0000000099"
REV_2020 = f"{LAW_ID}_20200401_501AC0000000010"
REV_2024 = f"{LAW_ID}_20240401_506AC0000000020"
TITLE = "試験手続法"


def _a(style: str, **attrs: str) -> str:
    """Attributes; the old serialisation adds Delete/Hide to provisions."""
    if style == "old" and attrs.pop("_provision", None):
        attrs = {"Delete": "false", "Hide": "false", **attrs}
    attrs.pop("_provision", None)
    return "".join(f' {k}="{v}"' for k, v in attrs.items())


def _sentence(style: str, text: str, num: int = 1, function: str | None = None) -> str:
    if style == "old":
        return f'<Sentence WritingMode="vertical">{text}</Sentence>'
    f = f' Function="{function}"' if function else ""
    return f'<Sentence{f} Num="{num}" WritingMode="vertical">{text}</Sentence>'


def _paragraph(style: str, num: int, *sentences: str, extra: str = "", caption: str = "") -> str:
    number = "" if num == 1 else "０１２３４５６７８９"[num]
    body = "".join(_sentence(style, s, i + 1, ("main", "proviso")[i] if len(sentences) > 1 else None)
                   for i, s in enumerate(sentences))
    cap = f"<ParagraphCaption>{caption}</ParagraphCaption>" if caption else ""
    num_el = f"<ParagraphNum>{number}</ParagraphNum>" if number else "<ParagraphNum/>"
    return (f'<Paragraph{_a(style, _provision="1", Num=str(num))}>{cap}{num_el}<ParagraphSentence>{body}'
            f"</ParagraphSentence>{extra}</Paragraph>")


def law_xml(revision: str = "2020", style: str = "new", *, law_num_attr: str | None = None) -> str:
    """The test act as e-Gov would serve it: 2020 has 第三条 (in 第二章第一節); 2024 drops it,
    rewords 第一条 and adds a 附則 of the amending law."""
    s = style
    num = law_num_attr or ("099" if s == "new" else "99")
    law_attrs = dict(Era="Heisei", Lang="ja", LawType="Act", Num=num, Year="13")
    if s == "new":
        law_attrs.update(PromulgateMonth="06", PromulgateDay="20")
    title_attrs = ' Kana="しけんてつづきほう" Abbrev="試手法,試験法" AbbrevKana="し,し"' if s == "new" else ""
    purpose = ("この法律は、試験の<Ruby>手続<Rt>てつづき</Rt></Ruby>を定めることを目的とする。" if revision == "2020"
               else "この法律は、試験及び検定の<Ruby>手続<Rt>てつづき</Rt></Ruby>を定めることを目的とする。")
    items = (f'<Item{_a(s, _provision="1", Num="1")}><ItemTitle>一</ItemTitle><ItemSentence>{_sentence(s, "災害の場合")}</ItemSentence>'
             f'<Subitem1{_a(s, _provision="1", Num="1")}><Subitem1Title>イ</Subitem1Title><Subitem1Sentence>{_sentence(s, "地震")}</Subitem1Sentence></Subitem1>'
             f'<Subitem1{_a(s, _provision="1", Num="2")}><Subitem1Title>ロ</Subitem1Title><Subitem1Sentence>{_sentence(s, "津波")}</Subitem1Sentence></Subitem1></Item>'
             f'<Item{_a(s, _provision="1", Num="2")}><ItemTitle>二</ItemTitle><ItemSentence><Column Num="1">{_sentence(s, "試験官")}</Column>'
             f'<Column Num="2">{_sentence(s, "試験を行う者をいう。")}</Column></ItemSentence></Item>')
    article1 = (f'<Article{_a(s, _provision="1", Num="1")}><ArticleCaption>（目的）</ArticleCaption><ArticleTitle>第一条</ArticleTitle>'
                + _paragraph(s, 1, purpose)
                + _paragraph(s, 2, "前項の手続は、公正に行う。", "ただし、次に掲げる場合は、この限りでない。", extra=items)
                + "</Article>")
    article2 = (f'<Article{_a(s, _provision="1", Num="2")}><ArticleCaption>（手数料）</ArticleCaption><ArticleTitle>第二条</ArticleTitle>'
                + _paragraph(s, 1, "手数料の額は、別表第一に定める。") + "</Article>")
    article2_2 = (f'<Article{_a(s, _provision="1", Num="2_2")}><ArticleTitle>第二条の二</ArticleTitle>'
                  + _paragraph(s, 1, "削除") + "</Article>")
    chapter2 = ""
    if revision == "2020":
        chapter2 = (f'<Chapter{_a(s, _provision="1", Num="2")}><ChapterTitle>第二章　雑則</ChapterTitle>'
                    f'<Section{_a(s, _provision="1", Num="1")}><SectionTitle>第一節　通則</SectionTitle>'
                    f'<Article{_a(s, _provision="1", Num="3")}><ArticleTitle>第三条</ArticleTitle>'
                    + _paragraph(s, 1, "この法律の実施に関し必要な事項は、政令で定める。") + "</Article></Section></Chapter>")
    suppl = (f"<SupplProvision><SupplProvisionLabel>附　則</SupplProvisionLabel>"
             + _paragraph(s, 1, "この法律は、公布の日から施行する。", caption="（施行期日）") + "</SupplProvision>"
             f'<SupplProvision AmendLawNum="令和元年五月一〇日法律第一〇号" Extract="true"><SupplProvisionLabel>附　則</SupplProvisionLabel>'
             f'<Article{_a(s, _provision="1", Num="1")}><ArticleCaption>（施行期日）</ArticleCaption><ArticleTitle>第一条</ArticleTitle>'
             + _paragraph(s, 1, "この法律は、令和二年四月一日から施行する。") + "</Article>"
             f'<Article{_a(s, _provision="1", Num="2")}><ArticleCaption>（経過措置）</ArticleCaption><ArticleTitle>第二条</ArticleTitle>'
             + _paragraph(s, 1, "この法律の施行前にした行為については、なお従前の例による。") + "</Article></SupplProvision>")
    if revision == "2024":
        suppl += (f'<SupplProvision AmendLawNum="令和六年三月二九日法律第二〇号" Extract="true"><SupplProvisionLabel>附　則</SupplProvisionLabel>'
                  + _paragraph(s, 1, "この法律は、令和六年四月一日から施行する。") + "</SupplProvision>")
    appendix = ('<AppdxTable Num="1"><AppdxTableTitle>別表第一</AppdxTableTitle><RelatedArticleNum>（第二条関係）</RelatedArticleNum>'
                "<TableStruct><Table><TableRow><TableColumn><Sentence>区分</Sentence></TableColumn><TableColumn><Sentence>手数料</Sentence>"
                "</TableColumn></TableRow><TableRow><TableColumn><Sentence>試験</Sentence></TableColumn><TableColumn><Sentence>千円</Sentence>"
                "</TableColumn></TableRow></Table></TableStruct></AppdxTable>")
    decl = ('<?xml version="1.0" encoding="utf-8"?>\n' if s == "new"
            else '<?xml version="1.0" encoding="UTF-8" standalone="no"?>')
    return (f"{decl}<Law{_a(s, **law_attrs)}><LawNum>平成十三年法律第九十九号</LawNum><LawBody>"
            f"<LawTitle{title_attrs}>{TITLE}</LawTitle>"
            "<TOC><TOCLabel>目次</TOCLabel><TOCChapter Num=\"1\"><ChapterTitle>第一章　総則</ChapterTitle></TOCChapter></TOC>"
            f'<MainProvision><Chapter{_a(s, _provision="1", Num="1")}><ChapterTitle>第一章　総則</ChapterTitle>'
            f"{article1}{article2}{article2_2}</Chapter>{chapter2}</MainProvision>{suppl}{appendix}</LawBody></Law>")


def write_law(directory, revision: str = "2020", style: str = "new", name: str | None = None, **kw):
    rev = {"2020": REV_2020, "2024": REV_2024}[revision]
    path = directory / (name or f"{rev}.xml")
    path.write_text(law_xml(revision, style, **kw), encoding="utf-8")
    return path


V1_UPDATELAWLISTS = """<?xml version="1.0" encoding="UTF-8"?>
<DataRoot>
  <Result>
    <Code>0</Code>
    <Message/>
  </Result>
  <ApplData>
    <Date>20240401</Date>
    <LawNameListInfo>
      <LawTypeName>法律</LawTypeName>
      <LawNo>平成十三年法律第九十九号</LawNo>
      <LawName>試験手続法</LawName>
      <LawNameKana>しけんてつづきほう</LawNameKana>
      <OldLawName/>
      <PromulgationDate>20010620</PromulgationDate>
      <AmendName>試験制度改革法</AmendName>
      <AmendNo>令和六年法律第二十号</AmendNo>
      <AmendPromulgationDate>20240329</AmendPromulgationDate>
      <EnforcementDate>20240401</EnforcementDate>
      <EnforcementComment/>
      <LawId>413AC0000000099</LawId>
      <LawUrl>https://elaws.e-gov.go.jp/document?lawid=413AC0000000099_20240401_506AC0000000020</LawUrl>
      <EnforcementFlg>0</EnforcementFlg>
      <AuthFlg>0</AuthFlg>
    </LawNameListInfo>
    <LawNameListInfo>
      <LawTypeName>府省令</LawTypeName>
      <LawNo>令和五年厚生労働省令第八号</LawNo>
      <LawName>試験手続法施行規則</LawName>
      <LawNameKana>しけんてつづきほうしこうきそく</LawNameKana>
      <OldLawName/>
      <PromulgationDate>20230119</PromulgationDate>
      <AmendName/>
      <AmendNo/>
      <AmendPromulgationDate>20230119</AmendPromulgationDate>
      <EnforcementDate>20230119</EnforcementDate>
      <EnforcementComment/>
      <LawId>505M60000100008</LawId>
      <LawUrl>https://elaws.e-gov.go.jp/document?lawid=505M60000100008_20230119_000000000000000</LawUrl>
      <EnforcementFlg>1</EnforcementFlg>
      <AuthFlg>0</AuthFlg>
    </LawNameListInfo>
  </ApplData>
</DataRoot>
"""

V1_LAWLISTS = """<?xml version="1.0" encoding="UTF-8"?>
<DataRoot><Result><Code>0</Code><Message/></Result><ApplData><Category>2</Category>
<LawNameListInfo><LawId>411AC0000000127</LawId><LawName>国旗及び国歌に関する法律</LawName><LawNo>平成十一年法律第百二十七号</LawNo><PromulgationDate>19990813</PromulgationDate></LawNameListInfo>
</ApplData></DataRoot>
"""

V1_ERROR = """<?xml version="1.0" encoding="UTF-8"?>
<DataRoot><Result><Code>1</Code><Message>取得結果が０件でした。条件を変更して再度取得してください。</Message></Result><ApplData/></DataRoot>
"""


def v2_revision(revision_id: str, *, title: str = TITLE, status: str = "CurrentEnforced", category: str = "行政手続",
                amendment_num: str | None = "令和六年法律第二十号", promulgated: str = "2024-03-29") -> dict:
    law_id, day, amend = revision_id.split("_")
    original = amend == "000000000000000"
    return {
        "law_revision_id": revision_id, "law_type": "Act", "law_title": title, "law_title_kana": "しけんてつづきほう",
        "abbrev": "試手法,試験法", "category": category, "updated": "2024-04-19T13:42:44+09:00",
        "amendment_promulgate_date": promulgated, "amendment_enforcement_date": f"{day[:4]}-{day[4:6]}-{day[6:]}",
        "amendment_enforcement_comment": None, "amendment_scheduled_enforcement_date": None,
        "amendment_law_id": None if original else amend, "amendment_law_title": None if original else "試験制度改革法",
        "amendment_law_title_kana": None, "amendment_law_num": None if original else amendment_num,
        "amendment_type": "1" if original else "3", "repeal_status": "None", "repeal_date": None,
        "remain_in_force": False, "mission": "New" if original else "Partial", "current_revision_status": status,
    }


LAW_INFO = {"law_type": "Act", "law_id": LAW_ID, "law_num": "平成十三年法律第九十九号", "law_num_era": "Heisei",
            "law_num_year": 13, "law_num_type": "Act", "law_num_num": "099", "promulgation_date": "2001-06-20"}


def v2_laws(revision_id: str = REV_2024, **kw) -> str:
    """GET /laws with one law."""
    rev = v2_revision(revision_id, **kw)
    return json.dumps({"total_count": 1, "count": 1, "laws": [
        {"law_info": LAW_INFO, "revision_info": rev, "current_revision_info": rev}]}, ensure_ascii=False)


def v2_law_revisions(*revisions: dict) -> str:
    """GET /law_revisions/{law_id}."""
    return json.dumps({"law_info": LAW_INFO, "revisions": list(revisions)}, ensure_ascii=False)


# ---- GET /law_data/{id}: the law's text with its metadata, as JSON and as XML --------------------------

def law_json_tree(xml: str) -> dict:
    """法令標準XML → the ``law_full_text`` tree of the JSON form: ``{tag, attr, children}``, text as
    strings among the children, and ``"attr": ""`` when an element has none (as e-Gov writes it)."""
    import xml.etree.ElementTree as ET

    def tree(elem) -> dict:
        children: list = [elem.text] if elem.text else []
        for child in elem:
            children.append(tree(child))
            if child.tail:
                children.append(child.tail)
        return {"tag": elem.tag, "attr": dict(elem.attrib) or "", "children": children}

    return tree(ET.fromstring(xml.encode("utf-8")))


def v2_law_data(revision: str = "2024", law: str | None = None, **replace) -> dict:
    """GET /law_data/{law_revision_id} of the test act, JSON form (with one attached figure);
    ``law`` replaces the text (法令標準XML), ``replace`` whole sections."""
    rev = {"2020": REV_2020, "2024": REV_2024}[revision]
    info = v2_revision(rev) if revision == "2024" else v2_revision(
        rev, status="PreviousEnforced", amendment_num="令和元年法律第十号", promulgated="2019-05-10")
    return {"attached_files_info": {"image_data": "", "attached_files": [
                {"law_revision_id": rev, "src": "./pict/H13HO099-001.jpg", "updated": "2024-04-19T13:42:44+09:00"}]},
            "law_info": LAW_INFO, "revision_info": info,
            "law_full_text": law_json_tree(law or law_xml(revision)), **replace}


def v2_law_data_json(revision: str = "2024", law: str | None = None, **replace) -> str:
    return json.dumps(v2_law_data(revision, law, **replace), ensure_ascii=False)


def _xml_value(key: str, value, indent: str) -> str:
    """One field of the XML form: null → an empty element, booleans as true/false, lists as repeated children."""
    from xml.sax.saxutils import escape

    if value is None:
        return f"{indent}<{key}/>\n"
    if isinstance(value, bool):
        return f"{indent}<{key}>{str(value).lower()}</{key}>\n"
    if isinstance(value, dict):
        return (f"{indent}<{key}>\n" + "".join(_xml_value(k, v, indent + "  ") for k, v in value.items())
                + f"{indent}</{key}>\n")
    if isinstance(value, list):  # attached_files → <attached_files><attached_file>…
        return (f"{indent}<{key}>\n" + "".join(_xml_value(key[:-1], v, indent + "  ") for v in value)
                + f"{indent}</{key}>\n")
    return f"{indent}<{key}>{escape(str(value))}</{key}>\n"


def v2_law_data_xml(revision: str = "2024", law: str | None = None, **replace) -> str:
    """The same response as :func:`v2_law_data_json`, ``response_format=xml``: the fields as
    indented elements of ``<law_data_response>``, the text as the ``<Law>`` element itself."""
    data = v2_law_data(revision, law, **replace)
    body = (law or law_xml(revision)).split("?>", 1)[-1]
    fields = "".join(_xml_value(k, v, "  ") for k, v in data.items() if k != "law_full_text")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<law_data_response>\n{fields}'
            f"  <law_full_text>{body}</law_full_text>\n</law_data_response>\n")
