package console

// dict holds the page's words in Chinese (the default) and English
// (?lang=en). The script gets the same map, so both render alike.
var dict = map[string]map[string]string{
	"zh": {
		"title": "一屏 · 分析台", "indicator": "指标", "period": "周期", "as_of": "截至", "live": "实时",
		"level": "排名范围", "by": "排名对象", "export_csv": "导出 CSV", "export_xlsx": "导出 Excel",
		"composite": "综合指数", "period_day": "本日", "period_week": "本周", "period_month": "本月",
		"period_quarter": "本季度", "period_year": "本年", "level_": "直接下级", "level_city": "全部市州",
		"level_county": "全部县区", "level_township": "全部乡镇街道", "by_region": "地区", "by_dept": "部门",
		"rank": "排名", "unit": "单位", "value": "值", "numerator": "分子", "denominator": "分母",
		"status": "状态", "mom": "环比", "yoy": "同比", "compare": "对比", "score": "综合指数", "tier": "等次",
		"target": "目标值", "floor": "底线", "weight": "权重", "total": "本级合计", "no_rows": "无下级单位",
		"unit_panel": "本级各项指标", "trend": "趋势", "compare_panel": "单位对比（勾选 2–4 个）",
		"green": "达标", "amber": "预警", "red": "落后", "none": "—", "lang_switch": "English", "logout": "退出登录",
		"ranking": "排名", "loading": "加载中…", "error": "出错", "clear": "清空", "pp": "个百分点",
		"no_trend": "综合指数暂无趋势图", "breadcrumb": "当前位置", "issue_order": "督办", "orders": "督办",
	},
	"en": {
		"title": "Yiping · Analyst console", "indicator": "Indicator", "period": "Period", "as_of": "As of", "live": "Live",
		"level": "Units", "by": "Rank", "export_csv": "Export CSV", "export_xlsx": "Export Excel",
		"composite": "Composite score", "period_day": "Today", "period_week": "This week", "period_month": "This month",
		"period_quarter": "This quarter", "period_year": "This year", "level_": "Direct subordinates", "level_city": "All cities",
		"level_county": "All counties", "level_township": "All townships", "by_region": "Regions", "by_dept": "Departments",
		"rank": "Rank", "unit": "Unit", "value": "Value", "numerator": "Num.", "denominator": "Den.",
		"status": "Status", "mom": "vs prev.", "yoy": "vs last year", "compare": "Compare", "score": "Score", "tier": "Tier",
		"target": "Target", "floor": "Floor", "weight": "Weight", "total": "Region total", "no_rows": "No subordinate units",
		"unit_panel": "All indicators of this unit", "trend": "Trend", "compare_panel": "Compare units (tick 2–4)",
		"green": "On target", "amber": "Warning", "red": "Behind", "none": "—", "lang_switch": "中文", "logout": "Sign out",
		"ranking": "Ranking", "loading": "Loading…", "error": "Error", "clear": "Clear", "pp": " pp",
		"no_trend": "No trend for the composite score", "breadcrumb": "You are here", "issue_order": "Supervise", "orders": "Orders",
	},
}
