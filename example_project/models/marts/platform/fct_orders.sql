with orders as (
    select * from {{ ref('stg_orders') }}
),

payments as (
    select * from {{ ref('int_order_payments') }}
)

select
    cast(orders.order_id as integer) as order_id,
    cast(orders.customer_id as integer) as customer_id,
    orders.order_date,
    orders.status,
    cast(coalesce(payments.credit_card_amount, 0) as decimal(18, 2)) as credit_card_amount,
    cast(coalesce(payments.coupon_amount, 0) as decimal(18, 2)) as coupon_amount,
    cast(coalesce(payments.bank_transfer_amount, 0) as decimal(18, 2)) as bank_transfer_amount,
    cast(coalesce(payments.gift_card_amount, 0) as decimal(18, 2)) as gift_card_amount,
    cast(coalesce(payments.total_amount, 0) as decimal(18, 2)) as amount
from orders
left join payments on orders.order_id = payments.order_id
