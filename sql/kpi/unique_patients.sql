-- @id unique_patients
-- @label.ru Уникальные пациенты
-- @label.en Unique patients
-- @unit count
-- @empty 0
-- @additive no
-- @dimensions doctor, direction, source, day, week, month
-- @definition Distinct patients with at least one visit in [from, to); visits without a patient are not counted. kpi.md §2.
SELECT {{dim}} AS dim, {{patients}} AS value
FROM clinic_visit f
WHERE f.portal_id = :portal AND f.visit_date >= :from AND f.visit_date < :to {{filters}}
GROUP BY {{dim}}
