package wall

import (
	"html/template"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/ticker"
)

const tickerTopic = ticker.Topic

const fontFamily = assets.FontFamily

func fontCSS() string { return assets.FontCSS() }

var funcs = template.FuncMap{}

// texts are the words of the screens, Chinese first.
var texts = map[string]map[string]string{
	"zh": {
		"live": "数据实时", "delayed": "数据延迟", "connecting": "连接中…", "disconnected": "与服务器的连接中断，正在重连",
		"silent": "服务器无响应", "source_delayed": "数据源延迟：", "source_failing": "数据源采集失败：",
		"composite": "综合指数", "ranking": "排行榜", "rank_suffix": "排名", "trend_suffix": "趋势（近30日）",
		"ticker": "12345热线实时工单", "health": "数据源状态", "nomap": "该地区无下级地图，以列表显示",
		"back": "返回上级", "as_of": "数据截至", "screens": "大屏", "playlists": "轮播", "index_title": "一屏 · 大屏列表",
		"period.day": "本日", "period.week": "本周", "period.month": "本月", "period.quarter": "本季度", "period.year": "本年",
		"status.green": "达标", "status.amber": "预警", "status.red": "落后",
		"kind.consult": "咨询", "kind.help": "求助", "kind.complaint": "投诉", "kind.report": "举报", "kind.suggestion": "建议", "kind.praise": "表扬",
		"channel.phone": "电话", "channel.web": "网站", "channel.wechat": "微信", "channel.app": "App", "channel.message_board": "留言板", "channel.other": "其他",
		"state.received": "已受理", "state.direct": "已直办", "state.assigned": "已派单", "state.closed": "已办结",
		"src.ok": "正常", "src.never": "尚未采集", "src.failing": "失败", "src.stale": "延迟", "ago": "前", "no_tickets": "暂无工单",
	},
	"en": {
		"live": "Live", "delayed": "Data delayed", "connecting": "Connecting…", "disconnected": "Connection to the server lost, reconnecting",
		"silent": "Server not responding", "source_delayed": "Source delayed: ", "source_failing": "Source failing: ",
		"composite": "Composite score", "ranking": "Rankings", "rank_suffix": " ranking", "trend_suffix": " trend (30 days)",
		"ticker": "12345 hotline tickets, live", "health": "Data sources", "nomap": "No map below this region; shown as a list",
		"back": "Back", "as_of": "As of", "screens": "Screens", "playlists": "Playlists", "index_title": "Yiping · screens",
		"period.day": "Today", "period.week": "This week", "period.month": "This month", "period.quarter": "This quarter", "period.year": "This year",
		"status.green": "On target", "status.amber": "Watch", "status.red": "Behind",
		"kind.consult": "Enquiry", "kind.help": "Help", "kind.complaint": "Complaint", "kind.report": "Report", "kind.suggestion": "Suggestion", "kind.praise": "Praise",
		"channel.phone": "Phone", "channel.web": "Web", "channel.wechat": "WeChat", "channel.app": "App", "channel.message_board": "Message board", "channel.other": "Other",
		"state.received": "Received", "state.direct": "Handled on call", "state.assigned": "Assigned", "state.closed": "Closed",
		"src.ok": "OK", "src.never": "Not yet collected", "src.failing": "Failing", "src.stale": "Delayed", "ago": " ago", "no_tickets": "No tickets yet",
	},
}

const indexHTML = `<!doctype html>
<html lang="{{if eq .Lang "en"}}en{{else}}zh-CN{{end}}"><head><meta charset="utf-8">
<title>{{.T.index_title}}</title><link rel="stylesheet" href="{{.FontCSS}}">
<style>body{background:#050d1f;color:#cfe3ff;font-family:{{.FontFamily}};margin:48px}a{color:#2fd0ff;font-size:22px;line-height:2}small{color:#6b86ad;margin-left:12px}</style>
</head><body><h1>{{.T.index_title}}</h1>
<h2>{{.T.screens}}</h2><ul>{{range .Screens}}<li><a href="{{.Href}}">{{.Title}}</a><small>{{.File}}</small></li>{{end}}</ul>
<h2>{{.T.playlists}}</h2><ul>{{range .Playlists}}<li><a href="{{.Href}}">{{.Title}}</a><small>{{.File}}</small></li>{{end}}</ul>
</body></html>`
