#include "ui/local_time.h"

#include <QDateTime>
#include <QLocale>

namespace svgear {

QString local_time_text(const std::string& iso_utc) {
  const QString text = QString::fromStdString(iso_utc);
  const QDateTime when = QDateTime::fromString(text, Qt::ISODate);
  return when.isValid() ? QLocale().toString(when.toLocalTime(), QLocale::ShortFormat) : text;
}

}  // namespace svgear
