with completed_orders as (
    select
        customer_id,
        amount
    from {{ ref('fct_orders') }}
    where status = 'completed'
)

select
    customers.customer_id,
    customers.customer_name,
    count(completed_orders.customer_id) as completed_orders,
    coalesce(sum(completed_orders.amount), 0) as revenue
from {{ ref('dim_customers') }} as customers
left join completed_orders on customers.customer_id = completed_orders.customer_id
group by customers.customer_id, customers.customer_name
