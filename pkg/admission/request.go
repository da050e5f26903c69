package admission

import (
	"encoding/json"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// objectHead is what an object says of itself: type, namespace and name.
type objectHead struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"metadata"`
}

// describe checks that a request describes the objects it carries, as every
// request from the API server does: request.kind is the object's apiVersion
// and kind, request.namespace and request.name its namespace and name (a
// CREATE may leave the name to generateName), for the object of a CREATE or
// UPDATE and the stored oldObject of an UPDATE or DELETE, which must be there.
// Anything else was not sent by an API server and is judged by nothing: the
// error names the mismatch, for a bad request (400).
func describe(req admission.Request) error {
	want := schema.GroupVersion{Group: req.Kind.Group, Version: req.Kind.Version}.String()
	ns := req.Namespace
	if req.Kind.Group == "" && req.Kind.Kind == "Namespace" && ns == req.Name {
		// The API server gives a Namespace's own name as the request's
		// namespace; the object itself has none.
		ns = ""
	}
	check := func(field string, raw []byte) error {
		if len(raw) == 0 || string(raw) == "null" {
			return fmt.Errorf("the %s carries no %s", req.Operation, field)
		}
		var head objectHead
		if err := json.Unmarshal(raw, &head); err != nil {
			return fmt.Errorf("%s is not a JSON object: %v", field, err)
		}
		switch {
		case head.APIVersion != want || head.Kind != req.Kind.Kind:
			return fmt.Errorf("request.kind is %s %s but %s is %s %s", want, req.Kind.Kind, field, head.APIVersion, head.Kind)
		case head.Metadata.Namespace != ns:
			return fmt.Errorf("request.namespace is %q but %s.metadata.namespace is %q", req.Namespace, field, head.Metadata.Namespace)
		case head.Metadata.Name != req.Name && (req.Name != "" || req.Operation != admissionv1.Create):
			return fmt.Errorf("request.name is %q but %s.metadata.name is %q", req.Name, field, head.Metadata.Name)
		}
		return nil
	}
	switch req.Operation {
	case admissionv1.Create:
		return check("request.object", req.Object.Raw)
	case admissionv1.Update:
		if err := check("request.object", req.Object.Raw); err != nil {
			return err
		}
		return check("request.oldObject", req.OldObject.Raw)
	case admissionv1.Delete:
		return check("request.oldObject", req.OldObject.Raw)
	}
	return fmt.Errorf("request.operation %q is not CREATE, UPDATE or DELETE", req.Operation)
}
