package cib

// File is the name Parse was given, which every Problem carries; "" for
// a CIB built in code.
func (c *CIB) File() string { return c.file }

// Line is the line the pair was read from; 0 when it was built in code.
func (p *NVPair) Line() int { return p.line }
