package resources

import (
	"encoding/json"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// An IDSet travels as its String() form in both msgpack and JSON, so a
// message or `--json` output reads "0-3,7" rather than bitset words, and the
// wire format does not depend on the in-memory representation.

var (
	_ msgpack.CustomEncoder = IDSet{}
	_ msgpack.CustomDecoder = (*IDSet)(nil)
	_ json.Marshaler        = IDSet{}
	_ json.Unmarshaler      = (*IDSet)(nil)
)

// EncodeMsgpack writes s as a msgpack string.
func (s IDSet) EncodeMsgpack(e *msgpack.Encoder) error {
	return e.EncodeString(s.String())
}

// DecodeMsgpack reads a msgpack string (nil decodes as the empty set).
func (s *IDSet) DecodeMsgpack(d *msgpack.Decoder) error {
	str, err := d.DecodeString()
	if err != nil {
		return fmt.Errorf("decoding idset: %w", err)
	}
	v, err := ParseIDSet(str)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalJSON writes s as a JSON string.
func (s IDSet) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.String())
}

// UnmarshalJSON reads a JSON string; null leaves s unchanged, as encoding/json
// does for other types.
func (s *IDSet) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("idset must be a JSON string like \"0-3,7\": %w", err)
	}
	v, err := ParseIDSet(str)
	if err != nil {
		return err
	}
	*s = v
	return nil
}
