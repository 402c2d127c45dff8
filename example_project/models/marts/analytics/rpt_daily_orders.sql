select
    order_date,
    count(order_id) as order_count,
    sum(case when status in ('returned', 'return_pending') then 0 else amount end) as net_revenue
from {{ ref('fct_orders') }}
group by order_date
