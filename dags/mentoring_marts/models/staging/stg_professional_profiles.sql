-- materialized: table
-- Profiles of professionals; user_id is the professional's.
WITH deduplicated AS (
    SELECT DISTINCT profile_id, user_id, job_title, company, sector FROM {{ source('mentoring', 'professional_profiles') }}
)
SELECT CAST(TRIM(profile_id) AS INTEGER) AS profile_id,
       CAST(TRIM(user_id) AS INTEGER) AS professional_id,
       NULLIF(TRIM(job_title), '') AS job_title,
       TRIM(company) AS company,
       LOWER(TRIM(sector)) AS sector
FROM deduplicated
