package mpack

// Format bytes of the msgpack specification, named as it names them. The
// fix* formats carry their value or length in the low bits and are tested by
// mask where they are used.
const (
	codeNil      = 0xc0
	codeFalse    = 0xc2
	codeTrue     = 0xc3
	codeBin8     = 0xc4
	codeBin16    = 0xc5
	codeBin32    = 0xc6
	codeExt8     = 0xc7
	codeExt16    = 0xc8
	codeExt32    = 0xc9
	codeFloat32  = 0xca
	codeFloat64  = 0xcb
	codeUint8    = 0xcc
	codeUint16   = 0xcd
	codeUint32   = 0xce
	codeUint64   = 0xcf
	codeInt8     = 0xd0
	codeInt16    = 0xd1
	codeInt32    = 0xd2
	codeInt64    = 0xd3
	codeFixExt1  = 0xd4
	codeFixExt4  = 0xd6
	codeFixExt8  = 0xd7
	codeFixExt16 = 0xd8
	codeStr8     = 0xd9
	codeStr16    = 0xda
	codeStr32    = 0xdb
	codeArray16  = 0xdc
	codeArray32  = 0xdd
	codeMap16    = 0xde
	codeMap32    = 0xdf

	fixMap   = 0x80 // 0x80-0x8f
	fixArray = 0x90 // 0x90-0x9f
	fixStr   = 0xa0 // 0xa0-0xbf
	negFix   = 0xe0 // 0xe0-0xff: -32..-1
)

// Ext type bytes that carry a time.Time.
const (
	extTime     = 0xff // -1: the msgpack timestamp extension, which msgpack/v5 writes
	extNodeTime = 13   // also read by msgpack/v5's DecodeTime, as some NodeJS library writes it
)
