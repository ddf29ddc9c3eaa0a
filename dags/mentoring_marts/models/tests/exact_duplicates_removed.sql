-- severity: warn
-- How many exact duplicate rows of the day's export staging removed, per table (only tables that had some).
SELECT source_table, raw_rows, staged_rows, raw_rows - staged_rows AS duplicates_removed
FROM (
    SELECT 'schools' AS source_table, (SELECT COUNT(*) FROM {{ source('mentoring', 'schools') }}) AS raw_rows,
           (SELECT COUNT(*) FROM {{ ref('stg_schools') }}) AS staged_rows
    UNION ALL
    SELECT 'users', (SELECT COUNT(*) FROM {{ source('mentoring', 'users') }}), (SELECT COUNT(*) FROM {{ ref('stg_users') }})
    UNION ALL
    SELECT 'professional_profiles', (SELECT COUNT(*) FROM {{ source('mentoring', 'professional_profiles') }}),
           (SELECT COUNT(*) FROM {{ ref('stg_professional_profiles') }})
    UNION ALL
    SELECT 'conversations', (SELECT COUNT(*) FROM {{ source('mentoring', 'conversations') }}), (SELECT COUNT(*) FROM {{ ref('stg_conversations') }})
    UNION ALL
    SELECT 'appointments', (SELECT COUNT(*) FROM {{ source('mentoring', 'appointments') }}), (SELECT COUNT(*) FROM {{ ref('stg_appointments') }})
) AS counts
WHERE raw_rows > staged_rows
