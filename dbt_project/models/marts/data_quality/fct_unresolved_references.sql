-- Facts that name a customer, warehouse, SKU or order with no master (yet). They are kept
-- and point at the unknown member; this table lists each one until the master arrives
-- and the next build resolves it.
with warehouses as (select warehouse_id from {{ ref('stg_erp__warehouses') }}),
products as (select sku from {{ ref('stg_erp__products') }}),
erp_customers as (select erp_code from {{ ref('stg_erp__customers') }}),
crm_customers as (select crm_id from {{ ref('stg_crm__customers') }}),
erp_orders as (select * from {{ ref('stg_erp__sales_orders') }}),
erp_lines as (select * from {{ ref('stg_erp__sales_order_lines') }}),
online_orders as (select * from {{ ref('stg_ecommerce__orders') }}),
online_items as (select * from {{ ref('stg_ecommerce__order_items') }}),
snapshots as (select * from {{ ref('stg_erp__stock_snapshots') }}),
movements as (select * from {{ ref('stg_erp__stock_movements') }}),
counts as (select * from {{ ref('stg_erp__stock_counts') }}),
purchase_orders as (select * from {{ ref('stg_erp__purchase_orders') }}),
returns as (select * from {{ ref('stg_erp__returns') }}),
feedback as (select * from {{ ref('stg_crm__feedback') }}),

all_order_ids as (
    select order_no as order_id from erp_orders
    union all
    select order_id from online_orders
),

missing as (
    select 'erp/sales_orders.csv' as source_file, order_no as fact_key,
           'customer' as missing_reference, erp_code as missing_id, first_drop_date, source_drop_date
    from erp_orders where erp_code not in (select erp_code from erp_customers)
    union all
    select 'erp/sales_orders.csv', order_no, 'warehouse', warehouse_id, first_drop_date, source_drop_date
    from erp_orders
    where warehouse_id is not null and warehouse_id not in (select warehouse_id from warehouses)
    union all
    select 'erp/sales_order_lines.csv', order_no || '/' || line_no, 'order', order_no,
           first_drop_date, source_drop_date
    from erp_lines where order_no not in (select order_no from erp_orders)
    union all
    select 'erp/sales_order_lines.csv', order_no || '/' || line_no, 'sku', sku, first_drop_date, source_drop_date
    from erp_lines where sku not in (select sku from products)
    union all
    select 'ecommerce/orders.jsonl', order_id || '/' || item_index, 'sku', sku, first_drop_date, source_drop_date
    from online_items where sku not in (select sku from products)
    union all
    select 'ecommerce/orders.jsonl', order_id, 'warehouse', warehouse_id, first_drop_date, source_drop_date
    from online_orders
    where warehouse_id is not null and warehouse_id not in (select warehouse_id from warehouses)
    union all
    select 'erp/stock_snapshots.csv', snapshot_date || '/' || warehouse_id || '/' || sku,
           'warehouse', warehouse_id, first_drop_date, source_drop_date
    from snapshots where warehouse_id not in (select warehouse_id from warehouses)
    union all
    select 'erp/stock_snapshots.csv', snapshot_date || '/' || warehouse_id || '/' || sku,
           'sku', sku, first_drop_date, source_drop_date
    from snapshots where sku not in (select sku from products)
    union all
    select 'erp/stock_movements.csv', movement_id, 'sku', sku, first_drop_date, source_drop_date
    from movements where sku is not null and sku not in (select sku from products)
    union all
    select 'erp/stock_movements.csv', movement_id, 'warehouse', warehouse_id, first_drop_date, source_drop_date
    from movements
    where warehouse_id is not null and warehouse_id not in (select warehouse_id from warehouses)
    union all
    select 'erp/stock_counts.csv', count_id, 'sku', sku, first_drop_date, source_drop_date
    from counts where sku is not null and sku not in (select sku from products)
    union all
    select 'erp/purchase_orders.csv', po_no || '/' || line_no, 'sku', sku, first_drop_date, source_drop_date
    from purchase_orders where sku not in (select sku from products)
    union all
    select 'erp/purchase_orders.csv', po_no || '/' || line_no, 'warehouse', warehouse_id,
           first_drop_date, source_drop_date
    from purchase_orders where warehouse_id not in (select warehouse_id from warehouses)
    union all
    select 'erp/returns.csv', return_id, 'order', order_ref, first_drop_date, source_drop_date
    from returns where order_ref not in (select order_id from all_order_ids)
    union all
    select 'erp/returns.csv', return_id, 'sku', sku, first_drop_date, source_drop_date
    from returns where sku not in (select sku from products)
    union all
    select 'crm/feedback.csv', feedback_id, 'customer', crm_id, first_drop_date, source_drop_date
    from feedback where crm_id is not null and crm_id not in (select crm_id from crm_customers)
    union all
    select 'crm/feedback.csv', feedback_id, 'order', order_ref, first_drop_date, source_drop_date
    from feedback
    where order_ref is not null and order_ref not in (select order_id from all_order_ids)
),

final as (
    select
        source_file,
        fact_key,
        missing_reference,
        missing_id,
        -- how long the fact has waited for its master, and the drop of its current version
        first_drop_date as first_seen_drop,
        source_drop_date as last_seen_drop
    from missing
)

select source_file, fact_key, missing_reference, missing_id, first_seen_drop, last_seen_drop
from final
