{{ config(materialized='incremental', partition_by='ds') }}
-- The size of each day's snapshot: one row per run, kept across runs (a day run again replaces its own row).
SELECT '{{ ds }}' AS ds,
       (SELECT COUNT(*) FROM {{ ref('stg_users') }} WHERE user_role = 'student') AS students,
       (SELECT COUNT(*) FROM {{ ref('stg_users') }} WHERE user_role = 'professional') AS professionals,
       (SELECT COUNT(*) FROM {{ ref('stg_conversations') }}) AS conversations,
       (SELECT COUNT(*) FROM {{ ref('stg_appointments') }}) AS appointments
