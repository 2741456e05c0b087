package jobid

import "strings"

const nWords = uint64(len(wordList))

// wordIndex finds a word's position in wordList.
var wordIndex = func() map[string]uint64 {
	m := make(map[string]uint64, len(wordList))
	for i, w := range wordList {
		m[w] = uint64(i)
	}
	return m
}()

// encodeWords prints an id as Flux's words form: the low 32 bits as three
// words, "--", the high 32 bits as three words.
func encodeWords(id uint64) string {
	var b strings.Builder
	appendHalf(&b, uint32(id))
	b.WriteString("--")
	appendHalf(&b, uint32(id>>32))
	return b.String()
}

func appendHalf(b *strings.Builder, half uint32) {
	x := uint64(half)
	for i := 0; i < 3; i++ {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(wordList[x%nWords])
		x /= nWords
	}
}

// decodeWords reads the words form back.
func decodeWords(s string) (uint64, error) {
	lo, hi, ok := strings.Cut(s, "--")
	if !ok {
		return 0, ErrSyntax
	}
	l, err := decodeHalf(lo)
	if err != nil {
		return 0, err
	}
	h, err := decodeHalf(hi)
	if err != nil {
		return 0, err
	}
	return h<<32 | l, nil
}

func decodeHalf(s string) (uint64, error) {
	ws := strings.Split(s, "-")
	if len(ws) != 3 {
		return 0, ErrSyntax
	}
	var x uint64
	for i := 2; i >= 0; i-- {
		v, ok := wordIndex[strings.ToLower(ws[i])]
		if !ok {
			return 0, ErrSyntax
		}
		x = x*nWords + v
	}
	if x > 1<<32-1 {
		return 0, ErrSyntax
	}
	return x, nil
}
