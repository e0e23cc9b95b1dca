with

activities as (

    select * from {{ source('agency_reports', 'agency_activities') }}

),

renamed as (

    select
        submission_id,
        row_number as source_row_number,
        ma_nhiem_vu as task_code,
        ma_hoat_dong as activity_code,
        noi_dung as activity_description,
        chi_tieu as indicator_code,
        don_vi_tinh as unit_code,
        trim_scale(ke_hoach) as planned_quantity,
        trim_scale(thuc_hien) as achieved_quantity,
        nguon_kinh_phi as funding_source,
        trang_thai as activity_status,
        han_hoan_thanh as due_on,
        ngay_hoan_thanh as completed_on,
        ghi_chu as note
    from activities

)

select * from renamed
