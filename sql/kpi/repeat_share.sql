-- @id repeat_share
-- @label.ru Доля повторных пациентов
-- @label.en Returning patient share
-- @unit percent
-- @additive no
-- @dimensions doctor, direction, source, day, week, month
-- @definition repeat_patients / unique_patients in [from, to), a share in [0, 1]; null without patients. kpi.md §2.
SELECT {{dim}} AS dim,
       COUNT(DISTINCT CASE WHEN f.visit_date > f.first_date THEN f.patient_id END) * 1.0
         / NULLIF(COUNT(DISTINCT f.patient_id), 0) AS value,
       COUNT(DISTINCT CASE WHEN f.visit_date > f.first_date THEN f.patient_id END) AS repeat_patients,
       COUNT(DISTINCT f.patient_id) AS unique_patients
FROM clinic_visit f
WHERE f.portal_id = :portal AND f.visit_date >= :from AND f.visit_date < :to {{filters}}
GROUP BY {{dim}}
