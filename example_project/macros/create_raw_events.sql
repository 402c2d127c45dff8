{#- Stands in for an ingestion tool: (re)creates the raw.events source table before each run. -#}
{% macro create_raw_events() %}
create schema if not exists raw;
create or replace table raw.events as
select
    cast(event_id as integer) as event_id,
    cast(customer_id as integer) as customer_id,
    cast(event_type as varchar) as event_type,
    cast(occurred_at as timestamp) as occurred_at
from (
    values
        (1, 1, 'page_view', '2024-01-02 09:15:00'),
        (2, 1, 'add_to_cart', '2024-01-02 09:17:30'),
        (3, 2, 'page_view', '2024-01-04 18:02:00'),
        (4, 3, 'page_view', '2024-01-05 11:40:00'),
        (5, 3, 'checkout', '2024-01-05 11:52:10'),
        (6, 7, 'page_view', '2024-01-20 08:05:00'),
        (7, 9, 'page_view', '2024-02-01 13:30:00'),
        (8, 9, 'add_to_cart', '2024-02-01 13:31:45'),
        (9, 13, 'page_view', '2024-02-14 20:00:00'),
        (10, 13, 'checkout', '2024-02-14 20:09:00'),
        (11, 18, 'page_view', '2024-03-03 07:45:00'),
        (12, 21, 'page_view', '2024-03-11 16:20:00'),
        (13, 23, 'add_to_cart', '2024-03-18 10:10:00'),
        (14, 5, 'page_view', '2024-03-25 12:00:00'),
        (15, 30, 'checkout', '2024-04-02 19:55:00')
) as loaded (event_id, customer_id, event_type, occurred_at)
{% endmacro %}
