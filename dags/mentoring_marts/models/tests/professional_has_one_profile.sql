-- severity: warn
-- Every professional has exactly one profile, with a job title. The export has a professional with two
-- (professionals_usage takes the one with the highest profile_id): reported, not failed.
SELECT u.user_id AS professional_id,
       COUNT(p.profile_id) AS profiles,
       SUM(CASE WHEN p.profile_id IS NOT NULL AND p.job_title IS NULL THEN 1 ELSE 0 END) AS profiles_without_job_title
FROM {{ ref('stg_users') }} u
LEFT JOIN {{ ref('stg_professional_profiles') }} p ON p.professional_id = u.user_id
WHERE u.user_role = 'professional'
GROUP BY u.user_id
HAVING COUNT(p.profile_id) <> 1 OR SUM(CASE WHEN p.profile_id IS NOT NULL AND p.job_title IS NULL THEN 1 ELSE 0 END) > 0
