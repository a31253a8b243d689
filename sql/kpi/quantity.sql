-- @id quantity
-- @label.ru Количество услуг
-- @label.en Services performed
-- @unit count
-- @empty 0
-- @additive yes
-- @dimensions service, doctor, direction, day, week, month
-- @definition Sum of product-row QUANTITY of visits dated in [from, to). kpi.md §3.
SELECT {{dim}} AS dim, SUM(f.quantity) AS value
FROM {{line_sums}} f
WHERE 1 = 1 {{filters}}
GROUP BY {{dim}}
