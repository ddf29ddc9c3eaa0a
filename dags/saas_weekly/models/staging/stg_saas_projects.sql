-- The week's projects snapshot. `+ds`: see stg_saas_accounts.
SELECT project_id, account_id, project_name, created_at
FROM {{ source('silver', 'projects') }}
WHERE +ds = {{ ds }}
