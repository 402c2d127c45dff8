with ordered as (
    select
        customer_id,
        order_id,
        amount,
        order_date - lag(order_date) over (
            partition by customer_id order by order_date, order_id
        ) as days_since_previous_order
    from {{ ref('fct_orders') }}
),

order_rhythm as (
    select
        customer_id,
        avg(days_since_previous_order) as avg_days_between_orders,
        max(amount) as largest_order_amount
    from ordered
    group by customer_id
)

select
    customers.customer_id,
    date '2024-06-01' - customers.first_order_date as tenure_days,
    customers.lifetime_value,
    customers.lifetime_value / nullif(customers.number_of_orders, 0) as avg_order_value,
    order_rhythm.avg_days_between_orders,
    order_rhythm.largest_order_amount,
    customers.last_seen_at is not null as has_web_activity
from {{ ref('dim_customers') }} as customers
left join order_rhythm on customers.customer_id = order_rhythm.customer_id
