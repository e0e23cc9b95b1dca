with

area_totals as (

    select
        submission_id,
        row_number,
        khu_vuc,
        tong_so_ho,
        tong_so_nhan_khau,
        so_ho_ngheo,
        ty_le_ho_ngheo,
        so_ho_can_ngheo,
        ty_le_ho_can_ngheo
    from {{ source('commune_reviews', 'commune_area_totals') }}

),

renamed as (

    select
        submission_id as submission_id,
        row_number::integer as area_row_number,
        khu_vuc as area_type,
        tong_so_ho::bigint as total_households,
        tong_so_nhan_khau::bigint as total_members,
        so_ho_ngheo::bigint as reported_poor_households,
        ty_le_ho_ngheo::numeric as reported_poor_rate_percent,
        so_ho_can_ngheo::bigint as reported_near_poor_households,
        ty_le_ho_can_ngheo::numeric as reported_near_poor_rate_percent
    from area_totals

)

select * from renamed
