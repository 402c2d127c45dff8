-- Customers by lifetime revenue; the join to dim_customers is optional.
select
    o.customer_id,
{%- if params.with_names %}
    c.customer_name,
{%- endif %}
    sum(o.amount) as revenue
from fct_orders as o
{%- if params.with_names %}
join dim_customers as c on c.customer_id = o.customer_id
{%- endif %}
group by all
