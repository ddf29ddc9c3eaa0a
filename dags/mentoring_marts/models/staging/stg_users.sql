-- materialized: table
-- Users: role and email lowercased, names trimmed, school_id (students only) as an integer.
WITH deduplicated AS (
    SELECT DISTINCT user_id, role, first_name, last_name, email, school_id, signup_date FROM {{ source('mentoring', 'users') }}
)
SELECT CAST(TRIM(user_id) AS INTEGER) AS user_id,
       LOWER(TRIM(role)) AS user_role,
       TRIM(first_name) AS first_name,
       TRIM(last_name) AS last_name,
       LOWER(TRIM(email)) AS email,
       CAST(NULLIF(TRIM(school_id), '') AS INTEGER) AS school_id,
       TRIM(signup_date) AS signed_up_on
FROM deduplicated
