package cib

import "reflect"

// Clone returns a deep copy: nothing in it shares memory with c. Editing
// goes copy, change, Validate, then swap, so that a change that fails
// validation leaves the CIB in use untouched ("nothing half-applied").
func (c *CIB) Clone() *CIB {
	if c == nil {
		return nil
	}
	return deepCopy(reflect.ValueOf(c)).Interface().(*CIB)
}

// deepCopy copies v and everything it reaches. It works by reflection so
// that a field added to the model later is copied without anyone having
// to remember this function. A struct is first copied whole (which also
// copies its unexported scalars: line numbers, the file name) and then its
// exported fields are replaced by deep copies; the model keeps no
// unexported references.
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(deepCopy(v.Elem()))
		return p
	case reflect.Interface:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(deepCopy(v.Elem()))
		return out
	case reflect.Slice:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			s.Index(i).Set(deepCopy(v.Index(i)))
		}
		return s
	case reflect.Map:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			m.SetMapIndex(deepCopy(it.Key()), deepCopy(it.Value()))
		}
		return m
	case reflect.Struct:
		s := reflect.New(v.Type()).Elem()
		s.Set(v)
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				s.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return s
	default:
		return v
	}
}
