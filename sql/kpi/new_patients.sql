-- @id new_patients
-- @label.ru Первичные пациенты
-- @label.en New patients
-- @unit count
-- @empty 0
-- @additive yes
-- @dimensions doctor, direction, source, day, week, month
-- @definition Patients whose first-ever visit (whole history, any doctor) is in [from, to); by doctor and direction, those of that first visit. kpi.md §2.
SELECT {{dim}} AS dim, COUNT(DISTINCT f.patient_id) AS value
FROM clinic_visit f
WHERE f.portal_id = :portal AND f.visit_date >= :from AND f.visit_date < :to AND f.is_first = 1 {{filters}}
GROUP BY {{dim}}
