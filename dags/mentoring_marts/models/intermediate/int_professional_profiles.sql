-- One profile per professional: the one with the highest profile_id (the most recent). A join on the grouped
-- maximum rather than a correlated subquery: SQLite would run that once per row of every model reading this view.
WITH latest AS (
    SELECT professional_id, MAX(profile_id) AS profile_id FROM {{ ref('stg_professional_profiles') }} GROUP BY professional_id
)
SELECT p.professional_id, p.profile_id, p.job_title, p.company, p.sector
FROM {{ ref('stg_professional_profiles') }} p
JOIN latest l ON l.profile_id = p.profile_id
