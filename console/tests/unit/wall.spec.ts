import { describe, expect, it } from 'vitest'
import { flattenTree, liveFirst, pageCount, pageOf, patrolCameras, type Patrol, type TreeRegion } from '../../src/services/wall'

describe('the wall', () => {
  it('walks the chosen cameras page by page and wraps around', () => {
    const cameras = [1, 2, 3, 4, 5, 6]
    expect(pageOf(cameras, 4, 0)).toEqual([1, 2, 3, 4])
    expect(pageOf(cameras, 4, 1)).toEqual([5, 6])
    expect(pageOf(cameras, 4, 2)).toEqual([1, 2, 3, 4])
    expect(pageOf(cameras, 9, 5)).toEqual(cameras)
    expect(pageCount(6, 4)).toBe(2)
    expect(pageCount(0, 4)).toBe(1)
  })

  it('flattens the camera tree with where each camera is and whether it is live', () => {
    const tree: TreeRegion[] = [{ id: 3, name: '西湖区', schools: [{ id: 1, name: '甲校', canteens: [{ id: 7, name: '食堂',
      areas: [{ id: 9, name: '热菜区', public: true, cameras: [{ id: 11, name: '一号', enabled: true, live: true },
        { id: 12, name: '二号', enabled: false, live: false }] }] }] }] }]
    expect(flattenTree(tree)).toEqual([
      { id: 11, name: '一号', live: true, place: '甲校 · 热菜区', canteenId: 7 },
      { id: 12, name: '二号', live: false, place: '甲校 · 热菜区', canteenId: 7 },
    ])
  })

  it('puts the live cameras first and keeps the tree order within each group', () => {
    const camera = (id: number, live: boolean) => ({ id, name: `${id}`, place: '甲校', live, canteenId: 1 })
    expect(liveFirst([camera(1, true), camera(7, false), camera(2, true), camera(3, false), camera(4, true)])
      .map((c) => c.id)).toEqual([1, 2, 4, 7, 3])
  })

  it('walks a patrol round through its own cameras only, in the order of the round, offline ones marked', () => {
    const patrol = { id: 5, cameras: [
      { id: 21, name: '二号', live: true, canteen_id: 2, school_name: '乙校', area_name: '切配区' },
      { id: 11, name: '一号', live: false, canteen_id: 1, school_name: '甲校', area_name: '热菜区' },
      { id: 12, name: '三号', live: true, canteen_id: 1, school_name: '甲校', area_name: '热菜区' },
    ] } as unknown as Patrol
    const cameras = patrolCameras(patrol)
    expect(cameras).toEqual([
      { id: 21, name: '二号', live: true, place: '乙校 · 切配区', canteenId: 2 },
      { id: 11, name: '一号', live: false, place: '甲校 · 热菜区', canteenId: 1 },
      { id: 12, name: '三号', live: true, place: '甲校 · 热菜区', canteenId: 1 },
    ])
    // A 1-tile wall rotating through the round shows each of its cameras in turn, then starts again.
    expect([0, 1, 2, 3].map((page) => pageOf(cameras, 1, page)[0].id)).toEqual([21, 11, 12, 21])
    expect(patrolCameras({ id: 6 } as unknown as Patrol)).toEqual([])
  })
})
