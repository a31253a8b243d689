-- clinic_patient_month (distinct patients of whole months as sums; migration 0005 explains it) for
-- the months a build touched, after month.sql: the months of changed days (already in
-- clinic_dirty_month), and every month a dirty patient visited in — their previous-visit and next-day
-- dates (visit_order.sql) may have moved anywhere in their history. A row counts a patient's first
-- visit of a month in a group: its previous visit in the group is in an earlier month or there is
-- none. One statement per split (the clinic '', doctor, direction, source): a single statement over
-- the four needs one sort of four times the rows, measured 60 % slower.
INSERT INTO clinic_dirty_month (portal_id, visit_month)
SELECT DISTINCT v.portal_id, v.visit_month
FROM clinic_visit v
JOIN clinic_dirty_patient p ON p.portal_id = v.portal_id AND p.patient_id = v.patient_id
WHERE v.portal_id = :portal
  AND NOT EXISTS (SELECT 1 FROM clinic_dirty_month m WHERE m.portal_id = v.portal_id AND m.visit_month = v.visit_month);

DELETE FROM clinic_patient_month
WHERE portal_id = :portal
  AND visit_month IN (SELECT visit_month FROM clinic_dirty_month WHERE portal_id = :portal);

INSERT INTO clinic_patient_month (portal_id, split, group_id, visit_month, prev_month, second_month, patients, after_first_day)
SELECT v.portal_id, '', NULL, v.visit_month, SUBSTR(v.prev_date, 1, 7) || '-01',
       CASE WHEN v.visit_date = v.first_date THEN SUBSTR(v.second_date, 1, 7) || '-01' END,
       COUNT(*), SUM(CASE WHEN v.visit_date > v.first_date THEN 1 ELSE 0 END)
FROM clinic_visit v
WHERE v.portal_id = :portal AND v.patient_id IS NOT NULL
  AND (v.prev_date IS NULL OR v.prev_date < v.visit_month)
  AND v.visit_month IN (SELECT visit_month FROM clinic_dirty_month WHERE portal_id = :portal)
GROUP BY v.portal_id, v.visit_month, SUBSTR(v.prev_date, 1, 7) || '-01',
         CASE WHEN v.visit_date = v.first_date THEN SUBSTR(v.second_date, 1, 7) || '-01' END;

INSERT INTO clinic_patient_month (portal_id, split, group_id, visit_month, prev_month, second_month, patients, after_first_day)
SELECT v.portal_id, 'doctor', v.doctor_id, v.visit_month, SUBSTR(v.prev_date_doctor, 1, 7) || '-01',
       CASE WHEN v.visit_date = v.first_date THEN SUBSTR(v.second_date_doctor, 1, 7) || '-01' END,
       COUNT(*), SUM(CASE WHEN v.visit_date > v.first_date THEN 1 ELSE 0 END)
FROM clinic_visit v
WHERE v.portal_id = :portal AND v.patient_id IS NOT NULL
  AND (v.prev_date_doctor IS NULL OR v.prev_date_doctor < v.visit_month)
  AND v.visit_month IN (SELECT visit_month FROM clinic_dirty_month WHERE portal_id = :portal)
GROUP BY v.portal_id, v.doctor_id, v.visit_month, SUBSTR(v.prev_date_doctor, 1, 7) || '-01',
         CASE WHEN v.visit_date = v.first_date THEN SUBSTR(v.second_date_doctor, 1, 7) || '-01' END;

INSERT INTO clinic_patient_month (portal_id, split, group_id, visit_month, prev_month, second_month, patients, after_first_day)
SELECT v.portal_id, 'direction', v.direction_id, v.visit_month, SUBSTR(v.prev_date_direction, 1, 7) || '-01',
       CASE WHEN v.visit_date = v.first_date THEN SUBSTR(v.second_date_direction, 1, 7) || '-01' END,
       COUNT(*), SUM(CASE WHEN v.visit_date > v.first_date THEN 1 ELSE 0 END)
FROM clinic_visit v
WHERE v.portal_id = :portal AND v.patient_id IS NOT NULL
  AND (v.prev_date_direction IS NULL OR v.prev_date_direction < v.visit_month)
  AND v.visit_month IN (SELECT visit_month FROM clinic_dirty_month WHERE portal_id = :portal)
GROUP BY v.portal_id, v.direction_id, v.visit_month, SUBSTR(v.prev_date_direction, 1, 7) || '-01',
         CASE WHEN v.visit_date = v.first_date THEN SUBSTR(v.second_date_direction, 1, 7) || '-01' END;

INSERT INTO clinic_patient_month (portal_id, split, group_id, visit_month, prev_month, second_month, patients, after_first_day)
SELECT v.portal_id, 'source', v.source_id, v.visit_month, SUBSTR(v.prev_date_source, 1, 7) || '-01',
       CASE WHEN v.visit_date = v.first_date THEN SUBSTR(v.second_date_source, 1, 7) || '-01' END,
       COUNT(*), SUM(CASE WHEN v.visit_date > v.first_date THEN 1 ELSE 0 END)
FROM clinic_visit v
WHERE v.portal_id = :portal AND v.patient_id IS NOT NULL
  AND (v.prev_date_source IS NULL OR v.prev_date_source < v.visit_month)
  AND v.visit_month IN (SELECT visit_month FROM clinic_dirty_month WHERE portal_id = :portal)
GROUP BY v.portal_id, v.source_id, v.visit_month, SUBSTR(v.prev_date_source, 1, 7) || '-01',
         CASE WHEN v.visit_date = v.first_date THEN SUBSTR(v.second_date_source, 1, 7) || '-01' END;

DELETE FROM clinic_dirty_month WHERE portal_id = :portal;
