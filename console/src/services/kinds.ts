// Violation kinds for the filters. The values are the API's enum (from the OpenAPI document): a kind added
// to the API without a name here fails the type check; the names are those of backend/violations/models.py.
import type { paths } from '../api/schema'

export type Kind = NonNullable<NonNullable<paths['/api/v1/schools/{school_id}/violations']['get']['parameters']['query']>['kind']>

export const KIND_LABELS: Record<Kind, string> = {
  no_mask: '未佩戴口罩', no_hat: '未佩戴厨师帽', no_uniform: '未穿工作服', smoking: '后厨吸烟',
  phone: '操作时使用手机', rodent: '发现鼠患', person_after_hours: '非工作时间有人进入后厨',
  camera_offline: '摄像头离线', camera_offline_meal: '就餐时段摄像头离线', camera_blurred: '摄像头画面模糊', camera_occluded: '摄像头被遮挡',
  sample_missing: '未按规定留样', disinfection_missing: '未记录餐具消毒', certificate_expired: '供应商证照过期仍在使用',
  morning_check_missing: '未按规定晨检', health_certificate_expired: '从业人员健康证过期仍上岗',
  inspection_finding: '监督检查发现问题', reported: '群众反映问题',
}

export const KIND_OPTIONS = Object.entries(KIND_LABELS).map(([value, label]) => ({ value, label }))
