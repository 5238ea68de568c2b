package i18n

// Analytics: the filter every analysis page shares (web/filters.go).
var _ = extend(en, map[string]string{
	"filter.title":   "Filter: source, channel, persona, segment",
	"filter.set_one": "%s filter on", "filter.set_other": "%s filters on",

	"filter.source": "Source", "filter.all_sources": "All sources",
	"filter.channel": "Channel", "filter.all_channels": "All channels",
	"filter.channel_hint":        "The events of every source of this channel.",
	"filter.persona":             "Persona",
	"filter.persona_placeholder": "e.g. Office worker",
	"filter.persona_hint":        "Customers whose latest traits.persona is this; the list has the personas of your journey maps.",
	"filter.segment":             "Customers who did",
	"filter.segment_hint":        "FIELD=VALUE: only the customers with at least one such event (all their events count), e.g. those who came from Facebook.",
	"filter.where":               "Only events where",
	"filter.where_hint":          "FIELD=VALUE: only the events with this value count; a bare name is a property (category=tui-xach).",

	"filter.active": "Filtered by", "filter.remove": "Remove this filter",
	"filter.chip_src": "Source", "filter.chip_channel": "Channel", "filter.chip_persona": "Persona",
	"filter.chip_segment": "Customers who did", "filter.chip_where": "Only events where",

	"filter.err_source":         "This source is not in the workspace: choose one from the list.",
	"filter.err_channel":        "No source of the workspace is of this channel: choose one from the list.",
	"filter.err_source_channel": "The source %s is not of the channel %s: choose another source or channel.",
	"filter.err_long":           "At most %d characters.",
	"filter.err_field_equals":   "“%s” is not FIELD=VALUE, e.g. context.campaign.source=facebook.",

	"funnel.steps_conditions": "A step can keep only some events with conditions in brackets (= or !=), e.g.",
})
