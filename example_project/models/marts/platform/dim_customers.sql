with customers as (
    select * from {{ ref('stg_customers') }}
),

orders as (
    select * from {{ ref('stg_orders') }}
),

payments as (
    select * from {{ ref('int_order_payments') }}
),

events as (
    select * from {{ ref('stg_events') }}
),

customer_orders as (
    select
        orders.customer_id,
        min(orders.order_date) as first_order_date,
        max(orders.order_date) as most_recent_order_date,
        count(*) as number_of_orders,
        sum(payments.total_amount) as lifetime_value
    from orders
    left join payments on orders.order_id = payments.order_id
    group by orders.customer_id
),

customer_events as (
    select
        customer_id,
        max(occurred_at) as last_seen_at
    from events
    group by customer_id
)

select
    cast(customers.customer_id as integer) as customer_id,
    customers.first_name || ' ' || customers.last_name as customer_name,
    customers.email,
    split_part(customers.email, '@', 2) as email_domain,
    case
        when customer_orders.lifetime_value >= 40 then 'high'
        when customer_orders.lifetime_value >= 15 then 'medium'
        else 'low'
    end as customer_segment,
    customer_orders.first_order_date,
    customer_orders.most_recent_order_date,
    cast(coalesce(customer_orders.number_of_orders, 0) as integer) as number_of_orders,
    cast(coalesce(customer_orders.lifetime_value, 0) as decimal(18, 2)) as lifetime_value,
    customer_events.last_seen_at
from customers
left join customer_orders on customers.customer_id = customer_orders.customer_id
left join customer_events on customers.customer_id = customer_events.customer_id
