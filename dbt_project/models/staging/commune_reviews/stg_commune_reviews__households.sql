with

households as (

    -- ho_ten_chu_ho and so_dinh_danh_chu_ho (personal data), ghi_chu (free text that may
    -- hold personal data) and extra_columns (unknown content) are not selected
    select
        submission_id,
        row_number,
        ma_ho,
        ap,
        khu_vuc,
        gioi_tinh_chu_ho,
        nam_sinh_chu_ho,
        dan_toc,
        so_nhan_khau,
        thu_nhap_binh_quan,
        diem_a,
        diem_b,
        td_viec_lam,
        td_phu_thuoc,
        td_dinh_duong,
        td_bhyt,
        td_trinh_do_nguoi_lon,
        td_di_hoc_tre_em,
        td_chat_luong_nha,
        td_dien_tich_nha,
        td_nuoc_sinh_hoat,
        td_nha_tieu,
        td_vien_thong,
        td_thiet_bi_thong_tin,
        td59_tiep_can_y_te,
        td59_trinh_do_nguoi_lon,
        td59_di_hoc_tre_em,
        td59_vien_thong,
        td59_tai_san_thong_tin,
        td351_dich_vu_so,
        td351_xu_ly_rac,
        co_nguoi_co_cong,
        co_doi_tuong_btxh,
        khong_co_kha_nang_lao_dong,
        nguyen_nhan_ngheo,
        nhu_cau_ho_tro,
        phan_loai_cua_xa
    from {{ source('commune_reviews', 'commune_households') }}

),

submission_info as (

    select
        submission_id,
        ma_xa,
        nam_ra_soat
    from {{ source('commune_reviews', 'commune_submission_info') }}

),

renamed as (

    select
        {{ household_key('submission_info.ma_xa', 'households.ma_ho') }} as household_key,
        households.submission_id as submission_id,
        households.row_number::integer as household_row_number,
        submission_info.ma_xa as commune_code,
        submission_info.nam_ra_soat::integer as review_year,
        households.ap as hamlet_name,
        households.khu_vuc as area_type,
        households.gioi_tinh_chu_ho as head_gender,
        households.nam_sinh_chu_ho::integer as head_birth_year,
        households.dan_toc as head_ethnicity,
        households.so_nhan_khau::integer as member_count,
        households.thu_nhap_binh_quan::numeric as income_per_member_monthly,
        households.diem_a::numeric as form_income_score,
        households.diem_b::numeric as form_deprivation_score,
        households.td_viec_lam::smallint as td_viec_lam,
        households.td_phu_thuoc::smallint as td_phu_thuoc,
        households.td_dinh_duong::smallint as td_dinh_duong,
        households.td_bhyt::smallint as td_bhyt,
        households.td_trinh_do_nguoi_lon::smallint as td_trinh_do_nguoi_lon,
        households.td_di_hoc_tre_em::smallint as td_di_hoc_tre_em,
        households.td_chat_luong_nha::smallint as td_chat_luong_nha,
        households.td_dien_tich_nha::smallint as td_dien_tich_nha,
        households.td_nuoc_sinh_hoat::smallint as td_nuoc_sinh_hoat,
        households.td_nha_tieu::smallint as td_nha_tieu,
        households.td_vien_thong::smallint as td_vien_thong,
        households.td_thiet_bi_thong_tin::smallint as td_thiet_bi_thong_tin,
        households.td59_tiep_can_y_te::smallint as td59_tiep_can_y_te,
        households.td59_trinh_do_nguoi_lon::smallint as td59_trinh_do_nguoi_lon,
        households.td59_di_hoc_tre_em::smallint as td59_di_hoc_tre_em,
        households.td59_vien_thong::smallint as td59_vien_thong,
        households.td59_tai_san_thong_tin::smallint as td59_tai_san_thong_tin,
        households.td351_dich_vu_so::smallint as td351_dich_vu_so,
        households.td351_xu_ly_rac::smallint as td351_xu_ly_rac,
        households.co_nguoi_co_cong::smallint as has_person_of_merit,
        households.co_doi_tuong_btxh::smallint as has_social_allowance_recipient,
        households.khong_co_kha_nang_lao_dong::smallint as has_no_working_capacity,
        households.nguyen_nhan_ngheo as poverty_cause_codes,
        households.nhu_cau_ho_tro as support_need_codes,
        households.phan_loai_cua_xa as commune_classification_code,
        case households.phan_loai_cua_xa
            when 'ngheo' then 'poor'
            when 'can_ngheo' then 'near_poor'
            when 'khong' then 'neither'
        end as commune_classification
    from households
    inner join submission_info
        on households.submission_id = submission_info.submission_id
    cross join {{ hmac_pads() }}

)

select * from renamed
