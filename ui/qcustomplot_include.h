#pragma once
// qcustomplot.h spells Qt's `signals` and `foreach` keywords, which QT_NO_KEYWORDS (kept for the
// LibTorch headers elsewhere in ui/) turns off: include it through this file, in .cpp files that
// include no LibTorch header.

#define signals Q_SIGNALS
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef foreach
#undef signals
