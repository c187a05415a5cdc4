"""The NTA corporate-number CSV's 30 columns (FORMATS.md §1.2), for the per-row mapping
(:mod:`loaders.houjin`) and the column mapping (:mod:`loaders.houjin_columns`) alike."""

COLUMNS = (
    "sequenceNumber", "corporateNumber", "process", "correct", "updateDate", "changeDate", "name",
    "nameImageId", "kind", "prefectureName", "cityName", "streetNumber", "addressImageId",
    "prefectureCode", "cityCode", "postCode", "addressOutside", "addressOutsideImageId", "closeDate",
    "closeCause", "successorCorporateNumber", "changeCause", "assignmentDate", "latest", "enName",
    "enPrefectureName", "enCityName", "enAddressOutside", "furigana", "hihyoji",
)
(SEQ, NUMBER, PROCESS, CORRECT, UPDATE, CHANGE, NAME, NAME_IMG, KIND, PREF, CITY, STREET, ADDR_IMG,
 PREF_CODE, CITY_CODE, POST, OUTSIDE, OUTSIDE_IMG, CLOSE_DATE, CLOSE_CAUSE, SUCCESSOR, CHANGE_CAUSE,
 ASSIGNED, LATEST, EN_NAME, EN_PREF, EN_CITY, EN_OUTSIDE, FURIGANA, HIHYOJI) = range(30)
