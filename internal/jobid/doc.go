// Package jobid is Flux's job identifier, the FLUID of RFC 19: a 64-bit
// number made of a millisecond timestamp (40 bits), a generator id (14 bits)
// and a sequence number (10 bits), so ids sort by submission time and two
// generators never hand out the same one.
//
// An id travels as a plain uint64; this package only makes them (Generator)
// and converts them to and from the text forms Flux users type and read:
// f58 ("ƒ2bG3oV", the default; "f2bG3oV" in ASCII), decimal, hex ("0x…"),
// dothex ("0000.000a.fc00.0000") and words ("rufus-cowboy-venice--airline-
// academy-academy", mnemonicode). Parse accepts every form; Encode prints
// the one asked for. It is pure: no clock but the one a Generator is given.
package jobid
