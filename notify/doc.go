// Package notify delivers special reports (特别呈报) to the places people
// read them outside the wall: a generic JSON webhook, a DingTalk custom
// robot (钉钉自定义机器人), a WeCom group robot (企业微信群机器人) and e-mail.
//
// It knows nothing of rules or lifecycles: package report decides what to
// say and when, and hands a Message to a Dispatcher with the names of its
// receivers. The Dispatcher keeps one queue per receiver, keeps to the
// channel's rate (20 messages a minute for a robot) by folding what would
// overflow it into one digest message that fits the channel's size limit,
// retries what can be retried with exponential backoff and jitter, and
// records every attempt in a Log (sent, retrying, failed, dropped; errors
// redacted) that the caller persists.
//
// A Notifier is one channel; its error says whether a retry can help, as
// Alertmanager's does. Receivers are configured as data (a receivers:
// list read strictly with yamlconf, see ReadReceivers) and their secrets
// print as <secret>, their URLs with every query value redacted.
//
// A Message may carry Attachments (a bulletin's PDF): e-mail sends them
// as multipart/mixed parts in base64, named in RFC 2231 and RFC 2047,
// within Email.MaxAttachments (10 MiB by default; a file past the cap is
// named in the text instead); the robots and webhooks send the link.
package notify
