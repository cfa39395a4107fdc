package wall

// texts are the words of the page around the widgets, Chinese first (each
// widget type keeps its own words beside it, in package widget).
var texts = map[string]map[string]string{
	"zh": {
		"live": "数据实时", "delayed": "数据延迟", "connecting": "连接中…", "disconnected": "与服务器的连接中断，正在重连", "revoked": "本屏访问已被撤销，请联系管理员",
		"cut_off": "所连节点与集群失联，正在切换节点",
		"silent":  "服务器无响应", "source_delayed": "数据源延迟：", "source_failing": "数据源采集失败：",
		"screens": "大屏", "playlists": "轮播", "index_title": "一屏 · 大屏列表",
		"period.day": "本日", "period.week": "本周", "period.month": "本月", "period.quarter": "本季度", "period.year": "本年",
	},
	"en": {
		"live": "Live", "delayed": "Data delayed", "connecting": "Connecting…", "disconnected": "Connection to the server lost, reconnecting", "revoked": "This screen's access was revoked; ask an administrator",
		"cut_off": "The server lost its cluster; switching to another node",
		"silent":  "Server not responding", "source_delayed": "Source delayed: ", "source_failing": "Source failing: ",
		"screens": "Screens", "playlists": "Playlists", "index_title": "Yiping · screens",
		"period.day": "Today", "period.week": "This week", "period.month": "This month", "period.quarter": "This quarter", "period.year": "This year",
	},
}

const indexHTML = `<!doctype html>
<html lang="{{if eq .Lang "en"}}en{{else}}zh-CN{{end}}"><head><meta charset="utf-8">
<title>{{.T.index_title}}</title><link rel="icon" href="{{.Icon}}"><link rel="stylesheet" href="{{.FontCSS}}">
<style>body{background:#050d1f;color:#cfe3ff;font-family:{{.FontFamily}};margin:48px}a{color:#2fd0ff;font-size:22px;line-height:2}small{color:#6b86ad;margin-left:12px}</style>
</head><body><h1>{{.T.index_title}}</h1>
<h2>{{.T.screens}}</h2><ul>{{range .Screens}}<li><a href="{{.Href}}">{{.Title}}</a><small>{{.File}}</small></li>{{end}}</ul>
<h2>{{.T.playlists}}</h2><ul>{{range .Playlists}}<li><a href="{{.Href}}">{{.Title}}</a><small>{{.File}}</small></li>{{end}}</ul>
</body></html>`
