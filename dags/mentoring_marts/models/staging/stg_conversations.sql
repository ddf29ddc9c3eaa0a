-- materialized: table
-- Conversations: the export writes one of them twice (an exact duplicate row), removed here.
-- Timestamps are UTC text, YYYY-MM-DDTHH:MM:SSZ; first_reply_at is NULL while unanswered.
WITH deduplicated AS (
    SELECT DISTINCT conversation_id, student_id, professional_id, created_at, first_reply_at
    FROM {{ source('mentoring', 'conversations') }}
)
SELECT CAST(TRIM(conversation_id) AS INTEGER) AS conversation_id,
       CAST(TRIM(student_id) AS INTEGER) AS student_id,
       CAST(TRIM(professional_id) AS INTEGER) AS professional_id,
       TRIM(created_at) AS created_at,
       NULLIF(TRIM(first_reply_at), '') AS first_reply_at
FROM deduplicated
