package scoring

import (
	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/indicator"
)

// MarshalYAML writes the whole configuration as a targets file that Parse
// reads back to an equal Config: "defaults: false", every level and rule
// spelt out (indicators in catalog order), and the tiers. It lets an
// administrator start a file from the running configuration
// (yaml.Marshal(cfg)).
func (c *Config) MarshalYAML() (any, error) {
	root := mapping(false)
	add(root, "defaults", scalar(false))
	levels := mapping(false)
	for _, l := range c.Levels() {
		rules := mapping(false)
		for _, d := range indicator.All() {
			r, ok := c.Rule(l, d.ID)
			if !ok {
				continue
			}
			m := mapping(true)
			add(m, "target", scalar(r.Target))
			add(m, "floor", scalar(r.Floor))
			add(m, "weight", scalar(r.Weight))
			add(rules, d.ID, m)
		}
		add(levels, l, rules)
	}
	add(root, "levels", levels)
	tiers := &yaml.Node{Kind: yaml.SequenceNode}
	for _, t := range c.Tiers() {
		m := mapping(true)
		add(m, "name", scalar(t.Name))
		add(m, "name_en", scalar(t.NameEN))
		add(m, "min", scalar(t.Min))
		tiers.Content = append(tiers.Content, m)
	}
	add(root, "tiers", tiers)
	return root, nil
}

func mapping(flow bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	if flow {
		n.Style = yaml.FlowStyle
	}
	return n
}

func add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
}

func scalar(v any) *yaml.Node {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		// Encode fails only for types it cannot represent; bools,
		// strings and float64 are not among them.
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return &n
}
