package lock

// Memory is a Manager that keeps locks in memory only; they are lost when
// the process ends. Covering costs O(depth of the path), Below and
// RemoveTree O(locks below the path). Use NewMemory: the zero value is not
// usable.
type Memory struct {
	*manager
}

var _ Stager = (*Memory)(nil)

// NewMemory returns an empty in-memory Manager.
func NewMemory(opt Options) *Memory {
	return &Memory{newManager(opt, nil)}
}
