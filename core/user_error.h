#pragma once
// UserError: an error the user can act on (a broken file, an unknown word, an impossible size).
// Everything in core/ that fails because of its input throws a UserError (or a subclass) whose
// message says what is wrong and what to do; the Generator turns it into an on_error event.

#include <stdexcept>
#include <string>

namespace svgear {

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace svgear
