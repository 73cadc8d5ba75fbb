#pragma once
// The human table (stdout) and the JSON document (--json FILE).

#include <string>

#include <boost/json/value.hpp>

#include "options.hpp"
#include "proc_sampler.hpp"
#include "stats.hpp"

namespace bosun::bench {

// Derived per-process figures: RSS per session, CPU per phase.
boost::json::value process_figures(const Options& o, const RunStats& s, const ProcSampler& sampler);

boost::json::value build_report(
    const Options& o, const RunStats& s, const ProcSampler& sampler, const SelfUsage& self);

void print_table(const Options& o, const boost::json::value& report);

bool write_json(const std::string& file, const boost::json::value& report, std::string& error);

}  // namespace bosun::bench
