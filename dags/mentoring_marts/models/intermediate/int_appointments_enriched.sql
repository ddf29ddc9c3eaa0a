-- Each appointment with its conversation's student, professional and start.
SELECT a.appointment_id, a.conversation_id, a.scheduled_at, a.appointment_status,
       c.student_id, c.professional_id, c.created_at AS conversation_created_at
FROM {{ ref('stg_appointments') }} a
LEFT JOIN {{ ref('stg_conversations') }} c ON c.conversation_id = a.conversation_id
