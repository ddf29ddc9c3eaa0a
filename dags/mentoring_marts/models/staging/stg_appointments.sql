-- materialized: table
-- Appointments: status lowercased and trimmed (completed, cancelled, no_show).
WITH deduplicated AS (
    SELECT DISTINCT appointment_id, conversation_id, scheduled_at, status FROM {{ source('mentoring', 'appointments') }}
)
SELECT CAST(TRIM(appointment_id) AS INTEGER) AS appointment_id,
       CAST(TRIM(conversation_id) AS INTEGER) AS conversation_id,
       TRIM(scheduled_at) AS scheduled_at,
       LOWER(TRIM(status)) AS appointment_status
FROM deduplicated
