-- One profile per professional: the one with the highest profile_id (the most recent).
SELECT p.professional_id, p.profile_id, p.job_title, p.company, p.sector
FROM {{ ref('stg_professional_profiles') }} p
WHERE p.profile_id = (SELECT MAX(q.profile_id) FROM {{ ref('stg_professional_profiles') }} q WHERE q.professional_id = p.professional_id)
