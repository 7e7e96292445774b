"""The normalized columns every record carries (kept in step with custinfo.normalize.OUTPUT_COLUMNS;
a test checks they agree). Kept here so the store can be imported without the normalizers."""
NORMALIZED_COLUMNS = [
    "name", "name_key", "name_pinyin", "gender", "birth_date", "phone", "phones", "email", "emails",
    "company", "company_key", "title", "title_key", "country", "province", "city", "district",
    "address", "address_key", "postcode", "national_id", "other_id", "created_at", "notes", "qq",
    "wechat", "customer_ref", "consent_email", "consent_marketing", "opt_out", "issues",
]
