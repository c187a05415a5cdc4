"""Trust: proof of issuer for inputs (OpenPGP signatures checked with gpgv), proof of existence
for what the graph held (the hash-chained load journal), signed publication, and ``kg verify``.
Plain files and GnuPG only; nothing here touches a store."""
