-- materialized: table
-- The export's schools, exact duplicates removed, ids as integers, text trimmed, the type lowercased.
WITH deduplicated AS (
    SELECT DISTINCT school_id, school_name, city, school_type FROM {{ source('mentoring', 'schools') }}
)
SELECT CAST(TRIM(school_id) AS INTEGER) AS school_id,
       TRIM(school_name) AS school_name,
       TRIM(city) AS city,
       LOWER(TRIM(school_type)) AS school_type
FROM deduplicated
