#pragma once
// A run record's time ("created": UTC, ISO 8601) as the user reads times: local, in the locale's
// short format. The record's text itself when it does not parse.

#include <string>

#include <QString>

namespace svgear {

QString local_time_text(const std::string& iso_utc);

}  // namespace svgear
