-- The week's users snapshot (a user's account is the one in this snapshot). `+ds`: see stg_saas_accounts.
SELECT user_id, account_id, email, role, created_at
FROM {{ source('silver', 'users') }}
WHERE +ds = {{ ds }}
