# The alert rules of pprof_exporter, rendered from the module's threshold
# options in two forms from one list: a Prometheus rule group (equal to
# deploy/prometheus/alerts.yml with the default options) and Grafana-managed
# rules (equal to deploy/grafana/provisioning/alerting/pprof-exporter.yml).
# tests/deploy/nixos_test.sh checks both equalities.
#
# Each alert: `expr` is the Prometheus expression; Grafana runs `query`
# (A), reduces it to the last value (B) and tests `condition` (C), which is
# either { gt = N; } (a threshold expression) or { math = "$B == 0"; }.
# Texts are functions of `style` because the two template dialects differ:
# Prometheus `{{ $value | humanize }}`, Grafana `{{ humanize $values.B.Value }}`.
# The forensics alerts (issue 13: PprofGoroutinesStuck, PprofGoroutineLeak,
# PprofGoroutinesGrowing) are at the end of the list.
{ cfg }:

let
  num = builtins.toJSON; # 0.05, not toString's "0.050000"
  join = builtins.concatStringsSep " ";

  runbook = anchor:
    "https://github.com/pprof-exporter/pprof_exporter/blob/main/deploy/README.md#${anchor}";
  evidence = kind:
    "http://{{ $labels.instance }}/debug/pprof/{{ $labels.target }}/${kind}/archive";

  value = style: f:
    if style == "prometheus" then "{{ $value | ${f} }}" else "{{ ${f} $values.B.Value }}";
  constant = style: f: x:
    if style == "prometheus" then "{{ ${num x} | ${f} }}" else "{{ ${f} ${num x} }}";

  # GC work excluding idle mark workers (Go 1.20+), which only fill CPU the
  # application left idle. An exporter without the idle series (older
  # builds) counts it as 0, as Go before 1.20 does.
  gcWithoutIdle = "pprof_cpu_gc_ratio - (pprof_cpu_gc_idle_ratio or pprof_cpu_gc_ratio * 0)";

  busyGuard = ''
    and on (job, instance, target)
      pprof_cpu_sampled_seconds / pprof_cpu_duration_seconds > ${num cfg.alertMinCpuCores}
  '';

  alerts = [
    {
      name = "PprofGoroutinesPerServiceHigh";
      uid = "pprof-goroutines-per-service-high";
      expr = "pprof_goroutines_per_service > ${num cfg.goroutinesPerServiceThreshold}";
      query = "pprof_goroutines_per_service";
      condition.gt = cfg.goroutinesPerServiceThreshold;
      for = "30m";
      severity = "warning";
      summary = s: "{{ $labels.target }}: ${value s "humanize"} goroutines per service";
      description = s: join [
        "Target {{ $labels.target }} ({{ $labels.instance }}) has averaged"
        "${value s "humanize"} goroutines per hosted service for 30 minutes"
        "(threshold ${num cfg.goroutinesPerServiceThreshold})."
        ''pprof_service_goroutines{target="{{ $labels.target }}"}''
        "shows which service holds them."
      ];
      anchor = "pprofgoroutinesperservicehigh";
      evidenceKind = "goroutine";
    }
    {
      name = "PprofGCCPUShareHigh";
      uid = "pprof-gc-cpu-share-high";
      expr = "${gcWithoutIdle} > ${num cfg.gcCpuRatioThreshold}\n" + busyGuard;
      query = "${gcWithoutIdle}\n" + busyGuard;
      condition.gt = cfg.gcCpuRatioThreshold;
      for = "30m";
      severity = "warning";
      summary = s: "{{ $labels.target }}: GC uses ${value s "humanizePercentage"} of CPU";
      description = s: join [
        "Garbage collection other than idle mark work accounted for"
        "${value s "humanizePercentage"} of the CPU sampled in target"
        "{{ $labels.target }} ({{ $labels.instance }}) for 30 minutes (threshold"
        "${constant s "humanizePercentage" cfg.gcCpuRatioThreshold})."
        "pprof_heap_flat_ratio and pprof_allocs_flat_ratio name the allocating"
        "functions."
      ];
      anchor = "pprofgccpusharehigh";
      evidenceKind = "cpu";
    }
    {
      name = "PprofTargetDown";
      uid = "pprof-target-down";
      expr = ''
        pprof_up == 0
        unless on (job, instance, target, profile)
          increase(pprof_scrape_errors_total{reason="profiler_busy"}[15m]) > 0
      '';
      query = ''
        pprof_up
        unless on (job, instance, target, profile)
          increase(pprof_scrape_errors_total{reason="profiler_busy"}[15m]) > 0
      '';
      range = 900;
      condition.math = "$B == 0";
      for = "10m";
      severity = "warning";
      summary = _: "{{ $labels.target }}: {{ $labels.profile }} profile not scraped";
      description = _: join [
        "pprof_exporter at {{ $labels.instance }} has failed to fetch the"
        "{{ $labels.profile }} profile of target {{ $labels.target }} for 10"
        ''minutes. pprof_scrape_errors_total{target="{{ $labels.target }}"} says''
        "why (connect, timeout, http_status, too_large, decode)."
      ];
      anchor = "pproftargetdown";
      evidenceKind = "{{ $labels.profile }}";
    }
    {
      name = "PprofProfilerBusy";
      uid = "pprof-profiler-busy";
      expr = ''increase(pprof_scrape_errors_total{profile="cpu", reason="profiler_busy"}[15m]) > ${num cfg.profilerBusyRefusals}'';
      query = ''increase(pprof_scrape_errors_total{profile="cpu", reason="profiler_busy"}[15m])'';
      range = 900;
      condition.gt = cfg.profilerBusyRefusals;
      for = "15m";
      severity = "info";
      summary = s: "{{ $labels.target }}: CPU profiler busy (${value s "humanize"} refusals in 15m)";
      description = s: join [
        "Target {{ $labels.target }} refused ${value s "humanize"} CPU profile"
        "requests from {{ $labels.instance }} in the last 15 minutes because"
        "another CPU profile was running. CPU metrics for this target are stale"
        "until the other profiler stops or the intervals are moved apart."
      ];
      anchor = "pprofprofilerbusy";
      evidenceKind = "cpu";
    }
    {
      name = "PprofHotFunction";
      uid = "pprof-hot-function";
      expr = "pprof_cpu_flat_ratio > ${num cfg.hotFunctionRatioThreshold}\n" + busyGuard;
      query = "pprof_cpu_flat_ratio\n" + busyGuard;
      condition.gt = cfg.hotFunctionRatioThreshold;
      for = "30m";
      severity = "info";
      summary = s: "{{ $labels.target }}: {{ $labels.function }} uses ${value s "humanizePercentage"} of CPU";
      description = s: join [
        "Function {{ $labels.function }} has spent ${value s "humanizePercentage"}"
        "of the sampled CPU of target {{ $labels.target }} ({{ $labels.instance }})"
        "in its own code (flat) for 30 minutes (threshold"
        "${constant s "humanizePercentage" cfg.hotFunctionRatioThreshold})."
      ];
      anchor = "pprofhotfunction";
      evidenceKind = "cpu";
    }
    {
      name = "PprofExporterDown";
      uid = "pprof-exporter-down";
      expr = ''up{job="${cfg.prometheusJobName}"} == 0'';
      query = ''up{job="${cfg.prometheusJobName}"}'';
      condition.math = "$B == 0";
      for = "5m";
      severity = "warning";
      summary = _: "pprof_exporter {{ $labels.instance }} is down";
      description = _: join [
        "Prometheus has not been able to scrape pprof_exporter at"
        "{{ $labels.instance }} for 5 minutes; no profile metrics are being"
        "collected from its targets."
      ];
      anchor = "pprofexporterdown";
      evidenceKind = null; # the exporter is down: nothing to link to
    }
    {
      name = "PprofGoroutinesStuck";
      uid = "pprof-goroutines-stuck";
      expr = "pprof_goroutines_stuck > ${num cfg.stuckGoroutinesThreshold}";
      query = "pprof_goroutines_stuck";
      condition.gt = cfg.stuckGoroutinesThreshold;
      for = "15m";
      severity = "warning";
      summary = s: "{{ $labels.target }}: ${value s "humanize"} goroutines stuck";
      description = s: join [
        "Target {{ $labels.target }} ({{ $labels.instance }}) has had"
        "${value s "humanize"} goroutines blocked longer than stuck_after for 15"
        "minutes (threshold ${num cfg.stuckGoroutinesThreshold})."
        ''pprof_goroutines_stuck_by_function{target="{{ $labels.target }}"}''
        "names where they wait."
      ];
      anchor = "pprofgoroutinesstuck";
      evidenceKind = "goroutine_dump";
    }
    {
      name = "PprofGoroutineLeak";
      uid = "pprof-goroutine-leak";
      expr = "pprof_goroutine_leaks > 0";
      query = "pprof_goroutine_leaks";
      condition.gt = 0;
      for = "5m";
      severity = "warning";
      summary = s: "{{ $labels.target }}: ${value s "humanize"} leaked goroutines";
      description = s: join [
        "The Go runtime's goroutineleak profile of target {{ $labels.target }}"
        "({{ $labels.instance }}) reports ${value s "humanize"} goroutines blocked"
        "on a channel, mutex or condition no running goroutine can reach (threshold 0)."
        ''pprof_goroutine_leaks_by_function{target="{{ $labels.target }}"}''
        "names where they leaked."
      ];
      anchor = "pprofgoroutineleak";
      evidenceKind = "goroutineleak";
    }
    {
      name = "PprofGoroutinesGrowing";
      uid = "pprof-goroutines-growing";
      expr = "delta(pprof_goroutines_per_service[6h]) > ${num cfg.goroutinesGrowthPerServiceThreshold}";
      query = "delta(pprof_goroutines_per_service[6h])";
      range = 21600;
      condition.gt = cfg.goroutinesGrowthPerServiceThreshold;
      for = "1h";
      severity = "warning";
      summary = s: "{{ $labels.target }}: goroutines per service up ${value s "humanize"} in 6h";
      description = s: join [
        "Target {{ $labels.target }} ({{ $labels.instance }}) has grown by"
        "${value s "humanize"} goroutines per hosted service over 6 hours, and"
        "has kept growing for an hour (threshold ${num cfg.goroutinesGrowthPerServiceThreshold})."
        "A leak on a host whose healthy level is far above any fixed threshold."
        ''pprof_goroutines_by_function{target="{{ $labels.target }}"}''
        "shows which functions hold the new ones."
      ];
      anchor = "pprofgoroutinesgrowing";
      evidenceKind = "goroutine";
    }
  ];

  annotations = style: a: {
    summary = a.summary style;
    description = a.description style;
    runbook_url = runbook a.anchor;
  } // (if a.evidenceKind == null then { } else { evidence_url = evidence a.evidenceKind; });

  prometheusRule = a: {
    alert = a.name;
    inherit (a) expr for;
    labels.severity = a.severity;
    annotations = annotations "prometheus" a;
  };

  expression = refId: model: {
    inherit refId;
    datasourceUid = "__expr__";
    model = { inherit refId; } // model;
  };

  grafanaRule = a: {
    inherit (a) uid for;
    title = a.name;
    condition = "C";
    data = [
      {
        refId = "A";
        datasourceUid = cfg.grafana.datasourceUid;
        relativeTimeRange = { from = a.range or 600; to = 0; };
        model = { refId = "A"; instant = true; range = false; expr = a.query; };
      }
      (expression "B" { type = "reduce"; expression = "A"; reducer = "last"; settings.mode = "dropNN"; })
      (expression "C" (if a.condition ? gt
        then { type = "threshold"; expression = "B"; conditions = [{ evaluator = { type = "gt"; params = [ a.condition.gt ]; }; }]; }
        else { type = "math"; expression = a.condition.math; }))
    ];
    noDataState = "OK";
    execErrState = "Error";
    labels.severity = a.severity;
    annotations = annotations "grafana" a;
  };
in
{
  prometheus.groups = [{ name = "pprof-exporter"; rules = map prometheusRule alerts; }];

  grafana = {
    apiVersion = 1;
    groups = [{
      orgId = 1;
      name = "pprof-exporter";
      folder = cfg.grafana.folder;
      interval = "1m";
      rules = map grafanaRule alerts;
    }];
  };
}
