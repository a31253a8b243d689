-- @id revenue
-- @label.ru Выручка
-- @label.en Revenue
-- @unit money
-- @empty 0
-- @additive yes
-- @dimensions doctor, direction, source, day, week, month
-- @definition Sum of visit revenue in the account currency for visits dated in [from, to). kpi.md §2.
-- A visit's revenue is the sum of its product rows (PRICE × QUANTITY, converted), or OPPORTUNITY
-- when it has none (src/clinic/derive.ts). Revenue by service is service_revenue (product rows only).
SELECT {{dim}} AS dim, SUM(f.revenue_minor) AS value
FROM {{visit_sums}} f
WHERE 1 = 1 {{filters}}
GROUP BY {{dim}}
